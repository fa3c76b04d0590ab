// The App Center on mobile: the team's apps with their installed state, and
// the performance review app's submitted reviews (open one to read it).
// Data comes from the same KV keys as the web part, through host.fetch.
// Installing stays on the web App Center, where team admins manage apps.
import {useCallback, useEffect, useMemo, useState} from 'react';
import {ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View} from 'react-native';

import type {HostContext} from '@mmtoolkit/mobile';

import {APPS} from '../shared/apps';
import {format, messagesFor, type MessageId} from '../shared/i18n';
import {listReviews, readInstalled, type Fetch, type Installed} from '../shared/kv';
import {average, CRITERIA, type Review} from '../shared/reviews';
import {changeOpacity, defaultTheme, type ThemeColors} from '../shared/theme';

export interface AppCenterProps {
    host: Pick<HostContext, 'fetch' | 'team'>;
    /** The slot's props: the current team ({id} or {name}) and the Mattermost theme. */
    team?: {id?: string; name?: string};
    theme?: Partial<ThemeColors>;
    locale?: string;
}

type Load<T> = {status: 'loading'} | {status: 'ready'; value: T} | {status: 'error'; error: string};

/** The team's id: the slot's, or the host's team resolved by name. */
async function teamId(f: Fetch, team: AppCenterProps['team'], hostTeam: string): Promise<string> {
    if (team?.id) {
        return team.id;
    }
    const ref = team?.name ?? hostTeam;
    if (/^[a-z0-9]{26}$/.test(ref)) {
        return ref;
    }
    const res = await f(`/api/v4/teams/name/${encodeURIComponent(ref)}`);
    if (!res.ok) {
        throw new Error(`team ${ref}: ${res.status}`);
    }
    return ((await res.json()) as {id: string}).id;
}

export function AppCenter({host, team, theme: themeProp, locale}: AppCenterProps) {
    const theme = {...defaultTheme, ...themeProp};
    const styles = useMemo(() => makeStyles(theme), [theme.centerChannelBg, theme.centerChannelColor, theme.buttonBg, theme.onlineIndicator]); // eslint-disable-line react-hooks/exhaustive-deps
    const messages = useMemo(() => messagesFor(locale), [locale]);
    const t = (id: MessageId, values?: Record<string, string | number>) => format(messages, id, values);

    const [data, setData] = useState<Load<{installed: Installed; reviews: Review[] | null}>>({status: 'loading'});
    const [open, setOpen] = useState<Review | null>(null);
    const [version, setVersion] = useState(0);
    const reload = useCallback(() => setVersion((v) => v + 1), []);

    useEffect(() => {
        let live = true;
        setData({status: 'loading'});
        (async () => {
            const id = await teamId(host.fetch, team, host.team);
            const {installed} = await readInstalled(host.fetch, id);
            const reviews = installed.apps.review ? await listReviews(host.fetch, id) : null;
            return {installed, reviews};
        })().
            then((value) => live && setData({status: 'ready', value})).
            catch((e: Error) => live && setData({status: 'error', error: e.message}));
        return () => {
            live = false;
        };
    }, [host, team?.id, team?.name, version]); // eslint-disable-line react-hooks/exhaustive-deps

    if (open) {
        return (
            <ScrollView style={styles.root} contentContainerStyle={styles.content}>
                <Pressable accessibilityRole='button' onPress={() => setOpen(null)} style={styles.back}>
                    <Text style={styles.link}>{'← '}{t('review.back')}</Text>
                </Pressable>
                <Text accessibilityRole='header' style={styles.h1}>{t('review.detail_title', {name: open.reviewee_name, period: open.period})}</Text>
                <Text style={styles.meta}>{t('review.average', {average: average(open)})}</Text>
                {CRITERIA.map((c) => (
                    <View key={c} style={styles.ratingRow}>
                        <Text style={styles.text}>{t(`review.criterion.${c}`)}</Text>
                        <Text style={styles.text}>{t('review.rating_label', {rating: open.ratings[c]})}</Text>
                    </View>
                ))}
                <Text accessibilityRole='header' style={styles.h2}>{t('review.comments')}</Text>
                <Text style={styles.text}>{open.comments}</Text>
            </ScrollView>
        );
    }

    return (
        <ScrollView style={styles.root} contentContainerStyle={styles.content}>
            <Text accessibilityRole='header' style={styles.h1}>{t('appcenter.title')}</Text>
            <Text style={styles.meta}>{t('appcenter.member_note')}</Text>
            {data.status === 'loading' && <ActivityIndicator accessibilityLabel={t('appcenter.loading')} color={theme.buttonBg}/>}
            {data.status === 'error' && (
                <View accessibilityRole='alert' style={styles.error}>
                    <Text style={styles.errorText}>{t('appcenter.load_error', {message: data.error})}</Text>
                    <Pressable accessibilityRole='button' onPress={reload}>
                        <Text style={styles.link}>{t('appcenter.retry')}</Text>
                    </Pressable>
                </View>
            )}
            {data.status === 'ready' && APPS.map((app) => {
                const installed = Boolean(data.value.installed.apps[app.id]);
                return (
                    <View key={app.id} style={styles.card} testID={`app-${app.id}`} accessible={true}
                        accessibilityLabel={`${t(app.name)}: ${t(installed ? 'appcenter.installed' : 'appcenter.not_installed')}`}>
                        <View style={styles.cardHead}>
                            <Text style={styles.h2}>{t(app.name)}</Text>
                            <Text style={[styles.badge, installed && styles.badgeOn]}>
                                {t(installed ? 'appcenter.installed' : 'appcenter.not_installed')}
                            </Text>
                        </View>
                        <Text style={styles.text}>{t(app.description)}</Text>
                    </View>
                );
            })}
            {data.status === 'ready' && data.value.reviews && (
                <View style={styles.section}>
                    <Text accessibilityRole='header' style={styles.h2}>{t('review.mine')}</Text>
                    {data.value.reviews.length === 0 && <Text style={styles.meta}>{t('review.mine_empty')}</Text>}
                    {data.value.reviews.map((r) => (
                        <Pressable key={`${r.period}/${r.reviewee_id}`} accessibilityRole='button' onPress={() => setOpen(r)} style={styles.reviewRow}>
                            <Text style={styles.link}>{t('review.list_item', {name: r.reviewee_name, period: r.period})}</Text>
                            <Text style={styles.meta}>{t('review.average', {average: average(r)})}</Text>
                        </Pressable>
                    ))}
                </View>
            )}
        </ScrollView>
    );
}

function makeStyles(theme: ThemeColors) {
    const fg = theme.centerChannelColor;
    return StyleSheet.create({
        root: {flex: 1, backgroundColor: theme.centerChannelBg},
        content: {padding: 16},
        h1: {fontSize: 20, fontWeight: '600', color: fg, marginBottom: 4},
        h2: {fontSize: 16, fontWeight: '600', color: fg, marginBottom: 4},
        text: {fontSize: 14, color: fg},
        meta: {fontSize: 12, color: changeOpacity(fg, 0.78), marginBottom: 8},
        link: {fontSize: 14, color: theme.linkColor, fontWeight: '600'},
        back: {marginBottom: 12},
        card: {borderWidth: 1, borderColor: changeOpacity(fg, 0.16), borderRadius: 8, padding: 12, marginTop: 12},
        cardHead: {flexDirection: 'row', justifyContent: 'space-between', alignItems: 'center'},
        badge: {fontSize: 12, fontWeight: '600', color: changeOpacity(fg, 0.8), backgroundColor: changeOpacity(fg, 0.08),
            borderRadius: 10, paddingHorizontal: 8, overflow: 'hidden'},
        badgeOn: {backgroundColor: changeOpacity(theme.onlineIndicator, 0.24), color: fg},
        section: {marginTop: 24},
        reviewRow: {paddingVertical: 10, borderBottomWidth: 1, borderBottomColor: changeOpacity(fg, 0.08)},
        ratingRow: {flexDirection: 'row', justifyContent: 'space-between', paddingVertical: 4},
        error: {padding: 8, borderRadius: 4, backgroundColor: changeOpacity(theme.errorTextColor, 0.08), marginTop: 8},
        errorText: {color: theme.errorTextColor, marginBottom: 4},
    });
}
