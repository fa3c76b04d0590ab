export default function News() {
    return <div className='news'>{'headlines'}</div>;
}
