// The annual performance review app: a form (teammate, period, five ratings,
// comments) checked before it is sent, saved in the reviewer's own KV space,
// and the list of the reviewer's submitted reviews. Reachable only while
// the app is installed for the team.
import {useCallback, useEffect, useMemo, useRef, useState, type FormEvent} from 'react';

import {KVError, listReviews, readReview, submitReview} from '../shared/kv';
import {teamMembers, type Member} from '../shared/members';
import {
    average, COMMENTS_MIN, CRITERIA, periods, RATINGS, toReview, validate,
    type Draft, type DraftField, type Problem, type Review,
} from '../shared/reviews';

import {selectMeId, useHostState, viewURL, webFetch, type TeamInfo} from './host';
import {useDate, useT} from './i18n';
import {useInstalled} from './installed';
import {BackLink, ViewLink} from './links';

export function ReviewApp({team, sub}: {team: TeamInfo; sub: string[]}) {
    const t = useT();
    const installed = useInstalled(team.id);
    if (installed.status === 'loading') {
        return <p className='appcenter-note' role='status'>{t('appcenter.loading')}</p>;
    }
    if (!installed.installed.apps.review) {
        return (
            <>
                <BackLink team={team}/>
                <p className='appcenter-note appcenter-not-installed' role='alert'>{t('review.not_installed')}</p>
            </>
        );
    }
    if (sub.length >= 2) {
        return <ReviewDetail team={team} period={sub[0]} revieweeId={sub[1]}/>;
    }
    return <ReviewHome team={team}/>;
}

function useReviews(teamId: string) {
    const [state, setState] = useState<{status: 'loading' | 'ready' | 'error'; reviews: Review[]; error?: string}>({status: 'loading', reviews: []});
    const [version, setVersion] = useState(0);
    useEffect(() => {
        let live = true;
        listReviews(webFetch, teamId).
            then((reviews) => live && setState({status: 'ready', reviews})).
            catch((e: Error) => live && setState((s) => ({...s, status: 'error', error: e.message})));
        return () => {
            live = false;
        };
    }, [teamId, version]);
    return {...state, reload: useCallback(() => setVersion((v) => v + 1), [])};
}

function ReviewHome({team}: {team: TeamInfo}) {
    const t = useT();
    const reviews = useReviews(team.id);
    return (
        <>
            <BackLink team={team}/>
            <header className='appcenter-header'>
                <h1>{t('app.review.name')}</h1>
                <p>{t('app.review.description')}</p>
            </header>
            <div className='review-columns'>
                <ReviewForm team={team} onSubmitted={reviews.reload}/>
                <section className='review-mine' aria-labelledby='review-mine-title'>
                    <h2 id='review-mine-title'>{t('review.mine')}</h2>
                    <MyReviews team={team} {...reviews}/>
                </section>
            </div>
        </>
    );
}

function MyReviews({team, status, reviews, error}: {team: TeamInfo; status: string; reviews: Review[]; error?: string}) {
    const t = useT();
    const date = useDate();
    if (status === 'loading') {
        return <p className='appcenter-note' role='status'>{t('review.mine_loading')}</p>;
    }
    if (status === 'error') {
        return <p className='appcenter-error' role='alert'>{t('review.mine_error', {message: error ?? ''})}</p>;
    }
    if (reviews.length === 0) {
        return <p className='appcenter-note'>{t('review.mine_empty')}</p>;
    }
    return (
        <ul className='review-list'>
            {reviews.map((r) => (
                <li key={`${r.period}/${r.reviewee_id}`} data-reviewee={r.reviewee_id} data-period={r.period}>
                    <ViewLink to={viewURL(team.name, 'review', r.period, r.reviewee_id)}>
                        {t('review.list_item', {name: r.reviewee_name, period: r.period})}
                    </ViewLink>
                    <span className='review-list-meta'>
                        {t('review.average', {average: average(r)})}{' · '}{t('review.submitted_on', {date: date(r.submitted_at)})}
                    </span>
                </li>
            ))}
        </ul>
    );
}

const emptyDraft = (): Draft => ({reviewee_id: '', period: String(new Date().getFullYear()), ratings: {}, comments: ''});

function fieldId(f: DraftField) {
    return `review-${f}`;
}

function ReviewForm({team, onSubmitted}: {team: TeamInfo; onSubmitted: () => void}) {
    const t = useT();
    const meId = useHostState(selectMeId);
    const [members, setMembers] = useState<{status: 'loading' | 'ready' | 'error'; list: Member[]; error?: string}>({status: 'loading', list: []});
    const [draft, setDraft] = useState<Draft>(emptyDraft);
    const [problems, setProblems] = useState<Problem[]>([]);
    const [attempted, setAttempted] = useState(false);
    const [saving, setSaving] = useState(false);
    const [saveError, setSaveError] = useState('');
    const [done, setDone] = useState('');
    const summaryRef = useRef<HTMLDivElement>(null);

    useEffect(() => {
        let live = true;
        teamMembers(webFetch, team.id).
            then((list) => live && setMembers({status: 'ready', list})).
            catch((e: Error) => live && setMembers({status: 'error', list: [], error: e.message}));
        return () => {
            live = false;
        };
    }, [team.id]);

    const others = useMemo(() => members.list.filter((m) => m.id !== meId), [members.list, meId]);
    const memberIds = useMemo(() => new Set(members.list.map((m) => m.id)), [members.list]);

    // After a first attempt, problems follow the edits.
    const update = (next: Draft) => {
        setDraft(next);
        setDone('');
        if (attempted) {
            setProblems(validate(next, meId, memberIds));
        }
    };
    const problemOf = (f: DraftField) => problems.find((p) => p.field === f);
    const message = (p: Problem) => t(p.message, p.values);

    const submit = async (e: FormEvent) => {
        e.preventDefault();
        setAttempted(true);
        setSaveError('');
        setDone('');
        const found = validate(draft, meId, memberIds);
        setProblems(found);
        if (found.length > 0) {
            requestAnimationFrame(() => summaryRef.current?.focus());
            return;
        }
        const reviewee = members.list.find((m) => m.id === draft.reviewee_id)!;
        const review = toReview(draft, team.id, reviewee.label);
        setSaving(true);
        try {
            await submitReview(webFetch, review);
            setDone(t('review.submitted', {name: reviewee.label, period: review.period}));
            setDraft(emptyDraft());
            setAttempted(false);
            onSubmitted();
        } catch (err) {
            const exists = err instanceof KVError && err.code === 'review_exists';
            setSaveError(exists ?
                t('review.error.exists', {name: reviewee.label, period: review.period}) :
                t('review.error.save', {message: (err as Error).message}));
        } finally {
            setSaving(false);
        }
    };

    const describedBy = (f: DraftField, hint?: string) => [hint, problemOf(f) ? `${fieldId(f)}-error` : ''].filter(Boolean).join(' ') || undefined;
    const fieldError = (f: DraftField) => {
        const p = problemOf(f);
        return p ? <p id={`${fieldId(f)}-error`} className='review-field-error'>{message(p)}</p> : null;
    };

    return (
        <form className='review-form' onSubmit={submit} noValidate={true} aria-labelledby='review-form-title'>
            <h2 id='review-form-title'>{t('review.new')}</h2>
            {problems.length > 0 && (
                <div ref={summaryRef} className='review-summary' role='alert' tabIndex={-1}>
                    <p>{t('review.error_summary', {count: problems.length})}</p>
                    <ul>
                        {problems.map((p) => (
                            <li key={p.field}>
                                <a
                                    href={`#${fieldId(p.field)}`}
                                    onClick={(e) => {
                                        e.preventDefault();
                                        const el = document.getElementById(fieldId(p.field));
                                        (el?.matches('fieldset') ? el.querySelector('input') : el)?.focus();
                                    }}
                                >
                                    {`${labelOf(p.field, t)}: ${message(p)}`}
                                </a>
                            </li>
                        ))}
                    </ul>
                </div>
            )}
            {done && <p className='review-done' role='status'>{done}</p>}
            {saveError && <p className='appcenter-error' role='alert'>{saveError}</p>}

            <div className='review-field'>
                <label htmlFor={fieldId('reviewee_id')}>{t('review.reviewee')}</label>
                {members.status === 'error' ? (
                    <p className='appcenter-error' role='alert'>{t('review.members_error', {message: members.error ?? ''})}</p>
                ) : (
                    <select
                        id={fieldId('reviewee_id')}
                        value={draft.reviewee_id}
                        aria-invalid={Boolean(problemOf('reviewee_id'))}
                        aria-describedby={describedBy('reviewee_id')}
                        aria-busy={members.status === 'loading'}
                        required={true}
                        onChange={(e) => update({...draft, reviewee_id: e.target.value})}
                    >
                        <option value=''>{t(members.status === 'loading' ? 'review.members_loading' : 'review.reviewee_placeholder')}</option>
                        {others.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
                    </select>
                )}
                {fieldError('reviewee_id')}
            </div>

            <div className='review-field'>
                <label htmlFor={fieldId('period')}>{t('review.period')}</label>
                <select
                    id={fieldId('period')}
                    value={draft.period}
                    aria-invalid={Boolean(problemOf('period'))}
                    aria-describedby={describedBy('period')}
                    required={true}
                    onChange={(e) => update({...draft, period: e.target.value})}
                >
                    {periods().map((p) => <option key={p} value={p}>{p}</option>)}
                </select>
                {fieldError('period')}
            </div>

            <fieldset className='review-ratings'>
                <legend>{t('review.ratings')}</legend>
                <p id='review-ratings-hint' className='review-hint'>{t('review.ratings_hint')}</p>
                {CRITERIA.map((c) => (
                    <fieldset
                        key={c}
                        id={fieldId(c)}
                        className={'review-rating' + (problemOf(c) ? ' invalid' : '')}
                        role='radiogroup'
                        aria-required={true}
                        aria-invalid={Boolean(problemOf(c))}
                        aria-describedby={describedBy(c, 'review-ratings-hint')}
                    >
                        <legend>{t(`review.criterion.${c}`)}</legend>
                        <div className='review-rating-options'>
                            {RATINGS.map((r) => (
                                <label key={r} className={'review-rating-option' + (draft.ratings[c] === r ? ' checked' : '')}>
                                    <input
                                        type='radio'
                                        name={`review-rating-${c}`}
                                        value={r}
                                        checked={draft.ratings[c] === r}
                                        aria-label={t('review.rating_label', {rating: r})}
                                        onChange={() => update({...draft, ratings: {...draft.ratings, [c]: r}})}
                                    />
                                    <span aria-hidden='true'>{r}</span>
                                </label>
                            ))}
                        </div>
                        {fieldError(c)}
                    </fieldset>
                ))}
            </fieldset>

            <div className='review-field'>
                <label htmlFor={fieldId('comments')}>{t('review.comments')}</label>
                <p id='review-comments-hint' className='review-hint'>{t('review.comments_hint', {min: COMMENTS_MIN})}</p>
                <textarea
                    id={fieldId('comments')}
                    rows={6}
                    value={draft.comments}
                    aria-invalid={Boolean(problemOf('comments'))}
                    aria-describedby={describedBy('comments', 'review-comments-hint')}
                    required={true}
                    onChange={(e) => update({...draft, comments: e.target.value})}
                />
                {fieldError('comments')}
            </div>

            <div className='review-actions'>
                <button type='submit' className='appcenter-button primary' disabled={saving}>
                    {t(saving ? 'review.submitting' : 'review.submit')}
                </button>
            </div>
        </form>
    );
}

function labelOf(f: DraftField, t: ReturnType<typeof useT>): string {
    if (f === 'reviewee_id') {
        return t('review.reviewee');
    }
    if (f === 'period') {
        return t('review.period');
    }
    if (f === 'comments') {
        return t('review.comments');
    }
    return t(`review.criterion.${f}`);
}

function ReviewDetail({team, period, revieweeId}: {team: TeamInfo; period: string; revieweeId: string}) {
    const t = useT();
    const date = useDate();
    const [state, setState] = useState<{status: 'loading' | 'ready' | 'error'; review?: Review | null; error?: string}>({status: 'loading'});
    useEffect(() => {
        let live = true;
        readReview(webFetch, team.id, period, revieweeId).
            then((review) => live && setState({status: 'ready', review})).
            catch((e: Error) => live && setState({status: 'error', error: e.message}));
        return () => {
            live = false;
        };
    }, [team.id, period, revieweeId]);
    const back = <ViewLink to={viewURL(team.name, 'review')} className='appcenter-back'>{'← '}{t('review.back')}</ViewLink>;
    if (state.status === 'loading') {
        return <>{back}<p className='appcenter-note' role='status'>{t('review.mine_loading')}</p></>;
    }
    if (state.status === 'error') {
        return <>{back}<p className='appcenter-error' role='alert'>{t('review.mine_error', {message: state.error ?? ''})}</p></>;
    }
    const r = state.review;
    if (!r) {
        return <>{back}<p className='appcenter-note' role='alert'>{t('review.not_found', {period})}</p></>;
    }
    return (
        <article className='review-detail' aria-labelledby='review-detail-title'>
            {back}
            <h1 id='review-detail-title'>{t('review.detail_title', {name: r.reviewee_name, period: r.period})}</h1>
            <p className='review-list-meta'>
                {t('review.submitted_on', {date: date(r.submitted_at)})}{' · '}{t('review.average', {average: average(r)})}
            </p>
            <dl className='review-detail-ratings'>
                {CRITERIA.map((c) => (
                    <div key={c}>
                        <dt>{t(`review.criterion.${c}`)}</dt>
                        <dd>
                            <span className='review-stars' aria-hidden='true'>{'●'.repeat(r.ratings[c])}{'○'.repeat(5 - r.ratings[c])}</span>
                            {' '}{t('review.rating_label', {rating: r.ratings[c]})}
                        </dd>
                    </div>
                ))}
            </dl>
            <h2>{t('review.comments')}</h2>
            <p className='review-comments'>{r.comments}</p>
        </article>
    );
}
