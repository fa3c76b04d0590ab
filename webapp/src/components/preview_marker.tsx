// The preview marker: while the developer runs `mmtoolkit push --watch`,
// their own manifest serves each build of the plugin, a prerelease marked
// `preview`, in place of the version the team serves everyone else. The
// header says so, so nobody mistakes a dev build for what the team runs.
// The entry comes from the manifest and from plugin_updated, so the marker
// appears and goes with the preview session, live.
import {useAppSelector} from '../store';

export function PreviewMarker() {
    const previews = useAppSelector((s) => Object.values(s.plugins.plugins).filter((p) => p.preview));
    if (previews.length === 0) {
        return null;
    }
    return (
        <span
            className='preview-marker'
            role='status'
            title='Only you see these builds: everyone else in the team keeps the version it serves. They go when push --watch stops.'
        >
            {'preview: '}
            {previews.map((p, i) => (
                <span key={p.id} data-plugin-id={p.id}>
                    {i > 0 && ', '}
                    {`${p.name || p.id} ${p.version}`}
                </span>
            ))}
        </span>
    );
}
