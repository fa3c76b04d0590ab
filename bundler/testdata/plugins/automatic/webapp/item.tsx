export function Item({label, active}: {label: string; active: boolean}) {
    return <li data-active={active}>{label}<b>!</b></li>;
}
