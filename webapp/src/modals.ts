// Modals plugins open through WebappUtils.modals.openModal and
// window.openInteractiveDialog. Component references again, so a small
// external store beside Redux rather than in it.
import type {ComponentType} from 'react';

export interface ModalEntry {
    modalId: string;
    dialogType: ComponentType<any>;
    dialogProps?: Record<string, unknown>;
}

type Listener = () => void;
let modals: ModalEntry[] = [];
const listeners = new Set<Listener>();

function emit() {
    listeners.forEach((l) => l());
}

export const modalStore = {
    subscribe(l: Listener) {
        listeners.add(l);
        return () => listeners.delete(l);
    },
    get: () => modals,
    open(m: ModalEntry) {
        modals = [...modals.filter((x) => x.modalId !== m.modalId), m];
        emit();
    },
    close(modalId: string) {
        modals = modals.filter((x) => x.modalId !== modalId);
        emit();
    },
};
