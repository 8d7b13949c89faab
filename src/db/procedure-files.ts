// The canonical function sources, in the order they must be installed (later files call earlier ones).
export const PROCEDURE_FILES = [
  'validation.sql',
  'users.sql',
  'books.sql',
  'money.sql',
  'batch.sql',
  'holds.sql',
  'holds_settle.sql',
  'refund.sql',
  'holds_views.sql',
  'history.sql',
  'receipts.sql',
  'audit.sql',
  'statements.sql',
];
