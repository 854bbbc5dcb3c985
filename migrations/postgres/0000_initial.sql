CREATE TABLE "callback_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "callback_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" bigint NOT NULL,
	"duration_ms" integer NOT NULL,
	"outcome" text NOT NULL,
	"response_status" integer,
	"error" text,
	"response_body" text
);
--> statement-breakpoint
CREATE TABLE "driver_stations" (
	"driver_id" text NOT NULL,
	"station_id" text NOT NULL,
	CONSTRAINT "driver_stations_driver_id_station_id_pk" PRIMARY KEY("driver_id","station_id")
);
--> statement-breakpoint
CREATE TABLE "drivers" (
	"driver_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"expires_at" bigint,
	"all_stations" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "drivers_status_check" CHECK ("drivers"."status" in ('active', 'blocked'))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"request_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "charging_session_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"station_id" text NOT NULL,
	"driver_id" text NOT NULL,
	"callback_url" text NOT NULL,
	"created_at" bigint NOT NULL,
	"decision_status" text,
	"decision_source" text,
	"decision_reason" text,
	"authorization_reference" text,
	"decided_at" bigint,
	"callback_state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"cycle_attempts" integer DEFAULT 0 NOT NULL,
	"last_attempt_at" bigint,
	"last_response_status" integer,
	"last_error" text,
	"next_attempt_at" bigint,
	"completed_at" bigint,
	"locked_by" text,
	"locked_until" bigint,
	"claim_token" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "requests_state_check" CHECK ("charging_session_requests"."callback_state" in ('pending', 'delivered', 'failed')),
	CONSTRAINT "requests_pending_has_next_check" CHECK (("charging_session_requests"."callback_state" = 'pending') = ("charging_session_requests"."next_attempt_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "callback_attempts" ADD CONSTRAINT "callback_attempts_request_id_charging_session_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."charging_session_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "driver_stations" ADD CONSTRAINT "driver_stations_driver_id_drivers_driver_id_fk" FOREIGN KEY ("driver_id") REFERENCES "public"."drivers"("driver_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_request_id_charging_session_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."charging_session_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "callback_attempts_request_idx" ON "callback_attempts" USING btree ("request_id","id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "requests_due_idx" ON "charging_session_requests" USING btree ("callback_state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "requests_state_created_idx" ON "charging_session_requests" USING btree ("callback_state","created_at","id");--> statement-breakpoint
CREATE INDEX "requests_created_idx" ON "charging_session_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "requests_locked_by_idx" ON "charging_session_requests" USING btree ("locked_by") WHERE "charging_session_requests"."locked_by" is not null;