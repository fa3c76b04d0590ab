// The developer overlay: when a push of a plugin this page runs fails to
// compile, the server tells the pusher's open pages (plugin_build_failed)
// and the errors show here, file:line:col as in the terminal. The next good
// push (plugin_updated) clears it.
import {useAppDispatch, useAppSelector} from '../store';
import {viewsActions} from '../store/views_slice';

export function DevOverlay() {
    const failure = useAppSelector((s) => s.views.buildFailure);
    const dispatch = useAppDispatch();
    if (!failure) {
        return null;
    }
    return (
        <div className='dev-overlay' role='alertdialog' aria-label='Build failed'>
            <header>
                <strong>{`Push of ${failure.pluginId} failed`}</strong>
                <button type='button' className='icon-button' aria-label='Dismiss' onClick={() => dispatch(viewsActions.buildFixed())}>{'×'}</button>
            </header>
            {failure.message && <p>{failure.message}</p>}
            <pre>
                {failure.diagnostics.map((d) => `${d.file}:${d.line}:${d.column + 1}: ${d.text}`).join('\n')}
            </pre>
            <p className='hint'>{'The page keeps running the last good version. Save again to push a fix.'}</p>
        </div>
    );
}
