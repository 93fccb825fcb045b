-- Servers cache the tokens they have seen; a change to a token (revocation, new scopes, a new
-- name, deletion) is announced on channel api_tokens_changed with the token's hash, so every
-- replica drops its cached copy at once. last_used_at bookkeeping announces nothing.
-- (Prisma's schema has no way to express a trigger, so this migration is written by hand.)
CREATE OR REPLACE FUNCTION "api_tokens_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('api_tokens_changed', OLD.token_hash);
  RETURN NULL;
END
$$;

CREATE TRIGGER "api_tokens_changed"
AFTER UPDATE OF "revoked_at", "scopes", "name", "token_hash" OR DELETE ON "api_tokens"
FOR EACH ROW EXECUTE FUNCTION "api_tokens_notify_change"();
