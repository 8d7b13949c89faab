// The worker's closing line counts what it printed in words a person reads without stumbling.
import { describe, expect, it } from 'vitest';
import { counted } from '../../src/receipts/log.js';

describe('counted', () => {
  it('puts the noun in the singular for one and the plural otherwise', () => {
    expect(`printed ${counted(1, 'receipt')} in ${counted(1, 'print')}`).toBe('printed 1 receipt in 1 print');
    expect(`printed ${counted(0, 'receipt')} in ${counted(0, 'print')}`).toBe(
      'printed 0 receipts in 0 prints',
    );
    expect(counted(50, 'receipt')).toBe('50 receipts');
  });
});
