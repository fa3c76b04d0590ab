export default function Weather() {
    return <div className='weather'>{'sunny'}</div>;
}
