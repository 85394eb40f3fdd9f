import { Box, Static, Text, useApp, useStdin, useStdout } from 'ink';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { CONTINUATION_PROMPT, PROMPT, type OutputItem, type ReplController, type ReplSnapshot, type Running } from './controller.js';
import type { EditorState } from './editor.js';
import { ProgressBar } from './progress-bar.js';

/** How many completion candidates are listed at most; the rest are counted. */
const MAX_CANDIDATES = 60;

export interface ReplAppProps {
  readonly controller: ReplController;
  readonly color: boolean;
}

/**
 * The interactive console. Finished output (echoed entries, result tables,
 * errors) goes to `<Static>` and stays in the terminal's scrollback; below
 * it, either the prompt or the running query with its progress.
 */
export function ReplApp({ controller, color }: ReplAppProps) {
  const snapshot = useSyncExternalStore(
    (listener) => controller.subscribe(listener),
    () => controller.snapshot,
  );
  const { exit } = useApp();
  const { stdout, write } = useStdout();
  const { setRawMode, internal_eventEmitter: input } = useStdin();

  // While a result is in the pager the keys are the pager's: raw mode off and
  // no reading (Ink stops reading stdin when raw mode goes off).
  useEffect(() => {
    if (snapshot.paging) {
      controller.inputReleased();
      return;
    }
    setRawMode(true);
    const onInput = (data: string) => controller.input(data);
    input.on('input', onInput);
    return () => {
      input.off('input', onInput);
      setRawMode(false);
    };
  }, [controller, input, setRawMode, snapshot.paging]);

  useEffect(() => {
    const update = () => {
      controller.width = stdout.columns || 80;
    };
    update();
    stdout.on('resize', update);
    return () => {
      stdout.off('resize', update);
    };
  }, [controller, stdout]);

  useEffect(() => {
    if (snapshot.exited) exit();
  }, [snapshot.exited, exit]);

  // Ctrl-L, \clear: home the cursor and erase the screen (not the scrollback,
  // as readline's clear-screen). Ink's write takes its prompt away first and
  // draws it again after, so the prompt comes back at the top.
  const clears = useRef(snapshot.clears);
  useEffect(() => {
    if (snapshot.clears === clears.current) return;
    clears.current = snapshot.clears;
    write('\x1b[H\x1b[2J');
  }, [snapshot.clears, write]);

  return (
    <>
      <Static items={[...snapshot.items]}>{(item) => <Output key={item.id} item={item} color={color} />}</Static>
      {snapshot.exited ? null : snapshot.running ? (
        <RunningView running={snapshot.running} width={stdout.columns || 80} />
      ) : (
        <PromptView snapshot={snapshot} />
      )}
    </>
  );
}

function Output({ item, color }: { readonly item: OutputItem; readonly color: boolean }) {
  return <Text color={color && item.kind === 'error' ? 'red' : undefined}>{item.text}</Text>;
}

export function RunningView({ running, width }: { readonly running: Running; readonly width: number }) {
  return (
    <Box flexDirection="column">
      {running.progress ? <ProgressBar view={running.progress} width={width} /> : null}
      <Text dimColor>{running.cancelling ? 'cancelling… (Ctrl-C again to stop waiting)' : 'running… (Ctrl-C cancels)'}</Text>
    </Box>
  );
}

export function PromptView({ snapshot }: { readonly snapshot: ReplSnapshot }) {
  const { editor, candidates, hint } = snapshot;
  return (
    <Box flexDirection="column">
      {editor.search ? <SearchLine editor={editor} /> : <InputLines editor={editor} />}
      {candidates.length > 0 ? (
        <Text>
          {candidates.slice(0, MAX_CANDIDATES).join('  ')}
          {candidates.length > MAX_CANDIDATES ? `  … ${candidates.length - MAX_CANDIDATES} more` : ''}
        </Text>
      ) : null}
      {hint ? <Text dimColor>{hint}</Text> : null}
    </Box>
  );
}

/** The entry with its prompts; the character under the cursor drawn inverse. */
function InputLines({ editor }: { readonly editor: EditorState }) {
  const lines = editor.text.split('\n');
  let offset = 0;
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => {
        const start = offset;
        offset += line.length + 1;
        const prompt = i === 0 ? PROMPT : CONTINUATION_PROMPT;
        const here = editor.cursor >= start && editor.cursor <= start + line.length;
        return (
          <Text key={i}>
            {prompt}
            {here ? <WithCursor text={line} at={editor.cursor - start} /> : line}
          </Text>
        );
      })}
    </Box>
  );
}

function WithCursor({ text, at }: { readonly text: string; readonly at: number }) {
  const cp = text.codePointAt(at);
  const ch = cp === undefined ? ' ' : String.fromCodePoint(cp);
  return (
    <>
      {text.slice(0, at)}
      <Text inverse>{ch}</Text>
      {text.slice(at + (cp === undefined ? 0 : ch.length))}
    </>
  );
}

function SearchLine({ editor }: { readonly editor: EditorState }) {
  const s = editor.search!;
  const match = s.match === null ? '' : (editor.history[s.match] ?? '');
  const failed = s.query !== '' && s.match === null;
  return (
    <Text>
      {`(${failed ? 'failed ' : ''}reverse-i-search)'${s.query}': `}
      <WithCursor text={match.replace(/\n/g, ' ')} at={Math.max(0, match.toLowerCase().indexOf(s.query.toLowerCase()))} />
    </Text>
  );
}
