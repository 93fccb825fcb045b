-- Servers also remember, for a few seconds, tokens the database did not know. A new token (or a
-- token given a new hash) is now announced too, with its hash, so a server that has just refused
-- it accepts it at once. (Written by hand, as the trigger it replaces.)
CREATE OR REPLACE FUNCTION "api_tokens_notify_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('api_tokens_changed', OLD.token_hash);
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('api_tokens_changed', NEW.token_hash);
  ELSIF TG_OP = 'UPDATE' AND NEW.token_hash IS DISTINCT FROM OLD.token_hash THEN
    PERFORM pg_notify('api_tokens_changed', NEW.token_hash);
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER "api_tokens_changed" ON "api_tokens";
CREATE TRIGGER "api_tokens_changed"
AFTER INSERT OR UPDATE OF "revoked_at", "scopes", "name", "token_hash" OR DELETE ON "api_tokens"
FOR EACH ROW EXECUTE FUNCTION "api_tokens_notify_change"();
