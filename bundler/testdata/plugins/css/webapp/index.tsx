import './style.css';
import styles from './button.module.css';
import logo from './logo.svg';

const Button = () => <button className={styles.primary}><img src={logo}/>{'go'}</button>;

window.registerPlugin('com.example.css', {
    initialize(registry: any) {
        registry.registerRootComponent(Button);
    },
});
