import {useSyncExternalStore} from 'react';

import {modalStore} from '../modals';

import {Boundary, useTheme} from './slot';

/** Renders modals opened with WebappUtils.modals.openModal or openInteractiveDialog. */
export function ModalHost() {
    const modals = useSyncExternalStore(modalStore.subscribe, modalStore.get);
    const theme = useTheme();
    if (modals.length === 0) {
        return null;
    }
    return (
        <div className='host-modal-backdrop'>
            {modals.map((m) => {
                const C = m.dialogType;
                const onExited = () => modalStore.close(m.modalId);
                return (
                    <Boundary key={m.modalId} registration={{id: m.modalId, pluginId: 'modal', slot: 'other', mattermostKey: 'Modal'}}>
                        <C {...m.dialogProps} theme={theme} onExited={onExited} onHide={onExited} show={true}/>
                    </Boundary>
                );
            })}
        </div>
    );
}
