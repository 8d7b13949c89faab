// Runs in every test file (vitest setupFiles): the cleanups its helpers registered, after its own afterAll.
import { afterAll } from 'vitest';
import { runFileCleanups } from './helpers/file-cleanup.js';

afterAll(runFileCleanups);
