-- A plain-text picture of schema `wallet`, one line per object, sorted: CI compares it with the committed
-- db/schema.snapshot, so a schema change is always a reviewed change (npm run db:snapshot rewrites it).
SELECT line FROM (
  SELECT format('column %s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')) AS line
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'wallet'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'wallet'
  UNION ALL
  SELECT format('domain %s %s %s %s', t.typname, format_type(t.typbasetype, t.typtypmod), k.conname,
                pg_get_constraintdef(k.oid))
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'wallet'
    JOIN pg_constraint k ON k.contypid = t.oid
   WHERE t.typtype = 'd'
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'wallet'
  UNION ALL
  SELECT format('trigger %s.%s %s', c.relname, t.tgname, pg_get_triggerdef(t.oid))
    FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'wallet'
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('function %s(%s) returns %s %s definer=%s md5=%s', p.proname,
                pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
                CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,
                p.prosecdef, md5(pg_get_functiondef(p.oid)))
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'wallet'
  UNION ALL
  SELECT format('grant %s on %s.%s to %s', g.privilege_type, g.table_name,
                coalesce(g.column_name, '*'), g.grantee)
    FROM (SELECT privilege_type, table_name, NULL AS column_name, grantee
            FROM information_schema.role_table_grants WHERE table_schema = 'wallet' AND grantee IN ('wallet_app', 'wallet_worker')
          UNION ALL
          SELECT privilege_type, table_name, column_name, grantee
            FROM information_schema.column_privileges
           WHERE table_schema = 'wallet' AND grantee IN ('wallet_app', 'wallet_worker')
             AND NOT EXISTS (SELECT 1 FROM information_schema.role_table_grants t
                              WHERE t.table_schema = 'wallet' AND t.table_name = column_privileges.table_name
                                AND t.grantee = column_privileges.grantee AND t.privilege_type = column_privileges.privilege_type)) g
  UNION ALL
  SELECT format('execute %s(%s) by %s', p.proname, pg_get_function_identity_arguments(p.oid), r.role)
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'wallet'
   CROSS JOIN (VALUES ('wallet_app'), ('wallet_worker')) r(role)
   WHERE has_function_privilege(r.role, p.oid, 'EXECUTE')
) lines
ORDER BY line COLLATE "C";
