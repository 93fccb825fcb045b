-- AlterTable
ALTER TABLE "idempotency_keys" ADD COLUMN     "password_hashes" JSONB;
