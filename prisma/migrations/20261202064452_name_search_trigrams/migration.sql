-- Name search through trigrams: GIN indexes that let ILIKE '%text%' (and 'text%') on either name
-- use an index instead of reading every customer. Building them locks writes to customers for
-- a few seconds per million customers.

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateIndex
CREATE INDEX "customers_first_name_trgm_idx" ON "customers" USING GIN ("first_name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "customers_last_name_trgm_idx" ON "customers" USING GIN ("last_name" gin_trgm_ops);
