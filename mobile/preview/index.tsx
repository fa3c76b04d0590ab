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

function Preview({host, result}: {host: PluginHost; result: LoadResult}) {
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
              <Slot name="post_type" post={{id: 'preview-' + type, type, message: 'preview message', props: {}}} />
            </View>
          ))}
        </Section>
        <Section title="call_button">
          <View style={styles.row}>
            <Slot name="call_button" channel={{id: 'preview', display_name: 'Town Square', name: 'town-square'}} />
          </View>
        </Section>
        <Section title="app_center">
          <Slot name="app_center" team={{id: m?.team, name: team}} />
        </Section>
      </ScrollView>
    </PluginHostProvider>
  );
}

function App() {
  const [state, setState] = useState<{host: PluginHost; result: LoadResult} | {error: string} | null>(null);
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
      const result = await host.load();
      setState({host, result});
    })().catch((e) => setState({error: String(e)}));
  }, []);
  if (!state) return <Text>Loading…</Text>;
  if ('error' in state) return <Text style={styles.problem}>{state.error}</Text>;
  return <Preview host={state.host} result={state.result} />;
}

const styles = StyleSheet.create({
  phone: {width: 390, minHeight: 844, margin: 16, borderWidth: 1, borderColor: '#ccc', borderRadius: 24, backgroundColor: '#f4f4f6'},
  header: {fontWeight: '700', marginBottom: 8},
  section: {marginVertical: 8, padding: 8, backgroundColor: '#fff', borderRadius: 8},
  sectionTitle: {fontSize: 12, color: '#888', marginBottom: 4},
  post: {paddingVertical: 6, borderTopWidth: 1, borderTopColor: '#eee'},
  row: {flexDirection: 'row', gap: 8},
  muted: {color: '#888'},
  problem: {color: '#b00'},
});

createRoot(document.getElementById('root') as HTMLElement).render(<App />);
