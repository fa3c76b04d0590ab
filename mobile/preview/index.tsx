// /mobile-preview: the mobile slots of a team's plugins, rendered in a
// browser with react-native-web (react-native is aliased to it by
// build.mjs), so a plugin developer sees the mobile look without a phone.
// It uses the real host library: the same manifest, signature and SHA-256
// checks, evaluation and error boundaries as an app.
import React, {useEffect, useState} from 'react';
import {createRoot} from 'react-dom/client';
import {ScrollView, StyleSheet, Text, View} from 'react-native';

import {LoadResult, PluginHost, PluginHostProvider, Slot} from '../src';

const params = new URLSearchParams(location.search);
const team = params.get('team') || 'engineering';
const platform = params.get('platform') === 'android' ? 'android' : 'ios';

function Section({title, children}: {title: string; children: React.ReactNode}) {
  return (
    <View style={styles.section}>
      <Text style={styles.sectionTitle}>{title}</Text>
      {children}
    </View>
  );
}

function Preview({host, result, samples}: {host: PluginHost; result: LoadResult; samples: Samples}) {
  const m = result.manifest;
  const postTypes = new Set<string>();
  m?.plugins.forEach((p) => p.slots.forEach((s) => s.slot === 'post_type' && s.post_type && postTypes.add(s.post_type)));
  return (
    <PluginHostProvider host={host}>
      <ScrollView style={styles.phone} contentContainerStyle={{padding: 12}}>
        <Text style={styles.header}>
          {team} · {platform} · runtime {host.options.runtimeVersion} · {result.source}
        </Text>
        {result.problems.map((p, i) => (
          <Text key={i} style={styles.problem}>
            {p.kind}: {p.pluginId ? p.pluginId + ' ' : ''}
            {p.message}
          </Text>
        ))}
        <Section title="Plugins">
          {result.plugins.length === 0 ? <Text>No mobile plugins enabled for this team.</Text> : null}
          {result.plugins.map((p) => (
            <Text key={p.id} testID={`plugin-${p.id}`}>
              {p.id} {p.version} — {p.state}
              {p.running && p.running !== p.version ? ` (running ${p.running})` : ''}
            </Text>
          ))}
          {m?.skipped.map((s) => (
            <Text key={s.id} style={styles.muted}>
              {s.id} {s.version} — skipped: runtime {s.runtime}
            </Text>
          ))}
        </Section>
        <Section title="post_type">
          {[...postTypes].map((type) => (
            <View key={type} style={styles.post}>
              <Text style={styles.muted}>a {type} post</Text>
              <Slot name="post_type" post={samples.posts[type] ?? {id: 'preview-' + type, type, message: 'preview message', props: {}}} />
            </View>
          ))}
        </Section>
        <Section title="call_button">
          <View style={styles.row}>
            <Slot name="call_button" channel={samples.channel ?? {id: 'preview', display_name: 'Town Square', name: 'town-square'}} />
          </View>
        </Section>
        <Section title="app_center">
          <Slot name="app_center" team={{id: m?.team, name: team}} />
        </Section>
      </ScrollView>
    </PluginHostProvider>
  );
}

type Post = {id: string; type: string; message: string; props: Record<string, unknown>; user_id?: string; channel_id?: string; create_at?: number};
type Channel = {id: string; name: string; display_name: string; team_id?: string};

/** Real data to render the slots with: the newest post of each type in the team's channels, and its town-square. */
interface Samples {
  posts: Record<string, Post>;
  channel?: Channel;
}

/**
 * Reads the team's channels and their recent posts through /api/v4 (the
 * sandbox or the real Mattermost behind the server), so each post type is
 * previewed with a real post of that type when the team has one. Failures
 * leave the placeholders: the preview is about the plugins, not the posts.
 */
async function loadSamples(): Promise<Samples> {
  const token = params.get('token');
  const get = async <T,>(path: string): Promise<T> => {
    const res = await fetch(path, {headers: token ? {Authorization: `Bearer ${token}`} : {}, credentials: 'same-origin'});
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json() as Promise<T>;
  };
  const samples: Samples = {posts: {}};
  try {
    const teams = await get<Array<{id: string; name: string}>>('/api/v4/users/me/teams');
    const t = teams.find((x) => x.id === team || x.name === team);
    if (!t) return samples;
    const channels = await get<Channel[]>(`/api/v4/users/me/teams/${t.id}/channels`);
    samples.channel = channels.find((c) => c.name === 'town-square') ?? channels[0];
    const lists = await Promise.all(
      channels.map((c) => get<{order: string[]; posts: Record<string, Post>}>(`/api/v4/channels/${c.id}/posts?per_page=60`).catch(() => null)),
    );
    for (const list of lists) {
      for (const p of Object.values(list?.posts ?? {})) {
        const have = samples.posts[p.type];
        if (p.type && (!have || (p.create_at ?? 0) > (have.create_at ?? 0))) samples.posts[p.type] = p;
      }
    }
  } catch {
    // placeholders
  }
  return samples;
}

function App() {
  const [state, setState] = useState<{host: PluginHost; result: LoadResult; samples: Samples} | {error: string} | null>(null);
  useEffect(() => {
    (async () => {
      // A developer tool on the server's own origin: it asks the server for
      // the key. An app pins it instead.
      const key = (await (await fetch('/api/v1/mobile/public-key')).json()).public_key as string;
      const host = new PluginHost({
        serverURL: location.origin,
        team,
        platform,
        publicKey: key,
        token: params.get('token') || undefined, // else the MMAUTHTOKEN cookie (same origin)
        reportCrashes: false,
      });
      const [result, samples] = await Promise.all([host.load(), loadSamples()]);
      setState({host, result, samples});
    })().catch((e) => setState({error: String(e)}));
  }, []);
  if (!state) return <Text>Loading…</Text>;
  if ('error' in state) return <Text style={styles.problem}>{state.error}</Text>;
  return <Preview host={state.host} result={state.result} samples={state.samples} />;
}

// The phone is 390 x 844 points (an iPhone 14's): react-native-web's
// ScrollView grows to fill its parent (flexGrow 1) in the page's row, so
// flexGrow 0 keeps the frame phone-wide on a desktop screen. Muted text is
// #6b6b6b, which keeps 4.5:1 on white (WCAG AA; #888 is 3.5:1).
const styles = StyleSheet.create({
  phone: {width: 390, maxWidth: '100%', flexGrow: 0, flexShrink: 0, minHeight: 844, margin: 16, borderWidth: 1, borderColor: '#ccc', borderRadius: 24, backgroundColor: '#f4f4f6'},
  header: {fontWeight: '700', marginBottom: 8},
  section: {marginVertical: 8, padding: 8, backgroundColor: '#fff', borderRadius: 8},
  sectionTitle: {fontSize: 12, color: '#6b6b6b', marginBottom: 4},
  post: {paddingVertical: 6, borderTopWidth: 1, borderTopColor: '#eee'},
  row: {flexDirection: 'row', gap: 8},
  muted: {color: '#6b6b6b'},
  problem: {color: '#b00'},
});

createRoot(document.getElementById('root') as HTMLElement).render(<App />);
