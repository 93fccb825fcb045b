-- CreateIndex
CREATE INDEX "idempotency_keys_token_id_created_at_idx" ON "idempotency_keys"("token_id", "created_at");
