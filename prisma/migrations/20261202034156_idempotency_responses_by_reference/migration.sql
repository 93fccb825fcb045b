-- Records written before this migration keep whole customers: cut them to references, each
-- customer's id, version and dateModified; a replay rebuilds the rest from the row and its history.
UPDATE "idempotency_keys" SET "response" = jsonb_build_object('customers', COALESCE((
  SELECT jsonb_agg(jsonb_build_object('id', c -> 'id', 'version', c -> 'version', 'dateModified', c -> 'dateModified') ORDER BY n)
  FROM jsonb_array_elements("response" -> 'customers') WITH ORDINALITY AS e(c, n)
), '[]'::jsonb))
WHERE jsonb_typeof("response" -> 'customers') = 'array';
