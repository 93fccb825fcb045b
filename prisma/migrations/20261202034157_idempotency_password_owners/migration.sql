-- AlterTable
ALTER TABLE "idempotency_keys" ADD COLUMN     "password_customer_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

-- CreateIndex
CREATE INDEX "idempotency_keys_password_customer_ids_idx" ON "idempotency_keys" USING GIN ("password_customer_ids");

-- Records written before this migration: whose password hashes each keeps (the hash of
-- "items.<n>.input.authentication.password" is the n-th customer's, of "input.authentication.password" the only one's).
UPDATE "idempotency_keys" k SET "password_customer_ids" = ARRAY(
  SELECT DISTINCT (k."response" -> 'customers' -> (CASE WHEN p.path LIKE 'items.%' THEN split_part(p.path, '.', 2)::int ELSE 0 END) ->> 'id')::int
  FROM jsonb_object_keys(k."password_hashes") AS p(path)
)
WHERE jsonb_typeof(k."password_hashes") = 'object';
