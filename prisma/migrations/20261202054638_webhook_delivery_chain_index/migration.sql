-- DropIndex
DROP INDEX "webhook_deliveries_endpoint_id_customer_id_event_id_idx";

-- CreateIndex
CREATE INDEX "webhook_deliveries_endpoint_id_customer_id_status_event_id_idx" ON "webhook_deliveries"("endpoint_id", "customer_id", "status", "event_id");
