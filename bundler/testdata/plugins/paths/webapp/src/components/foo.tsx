export default function Foo({text}: {text: string}) {
    return <em>{text}</em>;
}
