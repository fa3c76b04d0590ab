// The annual performance review: what a review holds and how a draft is
// checked before it is saved. Messages are ids of shared/i18n/*.json.
import type {MessageId} from './i18n';

/** The criteria rated 1 (needs improvement) to 5 (outstanding), in form order. */
export const CRITERIA = ['quality', 'delivery', 'collaboration', 'communication', 'growth'] as const;
export type Criterion = typeof CRITERIA[number];

export const RATINGS = [1, 2, 3, 4, 5] as const;

export const COMMENTS_MIN = 20;
export const COMMENTS_MAX = 4000;

/** A submitted review, as stored under user/reviews/<team>/<period>/<reviewee>. */
export interface Review {
    team_id: string;
    reviewee_id: string;
    /** Shown in lists without another lookup: "Alice Anders (@alice)". */
    reviewee_name: string;
    /** The review year, e.g. "2026". */
    period: string;
    ratings: Record<Criterion, number>;
    comments: string;
    submitted_at: number;
}

export interface Draft {
    reviewee_id: string;
    period: string;
    ratings: Partial<Record<Criterion, number>>;
    comments: string;
}

export type DraftField = 'reviewee_id' | 'period' | Criterion | 'comments';

/** A validation problem: the field and a message id with its values. */
export interface Problem {
    field: DraftField;
    message: MessageId;
    values?: Record<string, string | number>;
}

/** Years offered: next year back to four years ago. */
export function periods(now = new Date()): string[] {
    const y = now.getFullYear();
    return [y + 1, y, y - 1, y - 2, y - 3, y - 4].map(String);
}

export function validate(d: Draft, reviewerId: string, members: ReadonlySet<string>, now = new Date()): Problem[] {
    const out: Problem[] = [];
    if (!d.reviewee_id) {
        out.push({field: 'reviewee_id', message: 'review.error.reviewee_required'});
    } else if (d.reviewee_id === reviewerId) {
        out.push({field: 'reviewee_id', message: 'review.error.reviewee_self'});
    } else if (!members.has(d.reviewee_id)) {
        out.push({field: 'reviewee_id', message: 'review.error.reviewee_not_member'});
    }
    if (!d.period) {
        out.push({field: 'period', message: 'review.error.period_required'});
    } else if (!periods(now).includes(d.period)) {
        out.push({field: 'period', message: 'review.error.period_range', values: {first: periods(now)[periods(now).length - 1], last: periods(now)[0]}});
    }
    for (const c of CRITERIA) {
        const r = d.ratings[c];
        if (!r || !(RATINGS as readonly number[]).includes(r)) {
            out.push({field: c, message: 'review.error.rating_required'});
        }
    }
    const comments = d.comments.trim();
    if (comments.length < COMMENTS_MIN) {
        out.push({field: 'comments', message: 'review.error.comments_short', values: {min: COMMENTS_MIN, count: comments.length}});
    } else if (comments.length > COMMENTS_MAX) {
        out.push({field: 'comments', message: 'review.error.comments_long', values: {max: COMMENTS_MAX, count: comments.length}});
    }
    return out;
}

/** The review to save from a draft that validate() accepted. */
export function toReview(d: Draft, teamId: string, revieweeName: string, now = Date.now()): Review {
    return {
        team_id: teamId,
        reviewee_id: d.reviewee_id,
        reviewee_name: revieweeName,
        period: d.period,
        ratings: Object.fromEntries(CRITERIA.map((c) => [c, d.ratings[c] as number])) as Record<Criterion, number>,
        comments: d.comments.trim(),
        submitted_at: now,
    };
}

export function average(r: Review): number {
    const sum = CRITERIA.reduce((n, c) => n + (r.ratings[c] ?? 0), 0);
    return Math.round((sum / CRITERIA.length) * 10) / 10;
}
