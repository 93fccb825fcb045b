-- Written by hand: Prisma's schema cannot say DEFERRABLE. The same uniqueness, checked at the end
-- of each statement instead of row by row, so that one UPDATE can swap two customers' addresses
-- (updateCustomers). Prisma reads it as the same @unique, so the schema does not drift.
DROP INDEX "customers_email_key";
ALTER TABLE "customers" ADD CONSTRAINT "customers_email_key" UNIQUE ("email") DEFERRABLE INITIALLY IMMEDIATE;
