/**
 * A lead's purchase timeframe, which its opportunity takes over at conversion: one vocabulary for
 * both, here so that records (below leads) can name it without importing the lead's events.
 */
export const PURCHASE_TIMEFRAMES = ['Immediate', 'ThisQuarter', 'NextQuarter', 'ThisYear', 'Unknown'] as const;

export type PurchaseTimeframe = (typeof PURCHASE_TIMEFRAMES)[number];
