/** The one table of file extensions: which extension means which file format, for every command. */
import { extname } from 'node:path';

export type FileFormat = 'arrow' | 'jsonl' | 'csv' | 'tsv';

/** Extension (lower case, with the dot) -> format. Arrow IPC files go by several names. */
export const EXTENSIONS: Readonly<Record<string, FileFormat>> = {
  '.arrow': 'arrow', '.feather': 'arrow', '.ipc': 'arrow', '.arrows': 'arrow',
  '.jsonl': 'jsonl', '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv', '.tab': 'tsv',
};

/** The format a path's extension names, or undefined. */
export function formatOf(path: string): FileFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** The extensions that mean one of `formats`, for error messages ("use .jsonl, .ndjson or ..."). */
export function extensionsOf(formats: readonly FileFormat[]): string[] {
  return Object.keys(EXTENSIONS).filter((ext) => formats.includes(EXTENSIONS[ext]!));
}
