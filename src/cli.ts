#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The executable: tunes the V8 heap before the program is loaded (loading it already grows the
 * young generation), then runs the command line.
 */
import './heap-tuning.js';

await import('./command-line.js');
