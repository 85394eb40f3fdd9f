import { Box, Text } from 'ink';
import { bar, progressFigures, type ProgressView } from '../progress.js';

/**
 * `import  [██████░░░░░░]  42%  12.0 MiB / 28.6 MiB  3.10 MiB/s  ETA 5s`:
 * the bar when the total is known, the byte count and rate either way.
 */
export function ProgressBar({ view, width }: { readonly view: ProgressView; readonly width: number }) {
  const figures = progressFigures(view);
  const percent = view.fraction !== null ? `${String(Math.floor(view.fraction * 100)).padStart(3)}%` : null;
  const room = width - view.phase.length - figures.length - (percent ? percent.length : 0) - 10;
  const barWidth = Math.max(0, Math.min(40, room));
  return (
    <Box>
      <Text bold>{view.phase}</Text>
      {view.fraction !== null && barWidth >= 10 ? (
        <Text>
          {'  ['}
          <Text color="green">{bar(view.fraction, barWidth)}</Text>
          {']'}
        </Text>
      ) : null}
      {percent ? <Text>{`  ${percent}`}</Text> : null}
      <Text>{`  ${figures}`}</Text>
    </Box>
  );
}
