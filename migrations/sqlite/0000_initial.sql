CREATE TABLE `callback_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`outcome` text NOT NULL,
	`response_status` integer,
	`error` text,
	`response_body` text,
	FOREIGN KEY (`request_id`) REFERENCES `charging_session_requests`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `callback_attempts_request_idx` ON `callback_attempts` (`request_id`,`id`);--> statement-breakpoint
CREATE TABLE `driver_stations` (
	`driver_id` text NOT NULL,
	`station_id` text NOT NULL,
	PRIMARY KEY(`driver_id`, `station_id`),
	FOREIGN KEY (`driver_id`) REFERENCES `drivers`(`driver_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `drivers` (
	`driver_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`expires_at` integer,
	`all_stations` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "drivers_status_check" CHECK("drivers"."status" in ('active', 'blocked'))
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`request_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`request_id`) REFERENCES `charging_session_requests`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `charging_session_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`station_id` text NOT NULL,
	`driver_id` text NOT NULL,
	`callback_url` text NOT NULL,
	`created_at` integer NOT NULL,
	`decision_status` text,
	`decision_source` text,
	`decision_reason` text,
	`decided_at` integer,
	`callback_state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`cycle_attempts` integer DEFAULT 0 NOT NULL,
	`last_attempt_at` integer,
	`last_response_status` integer,
	`last_error` text,
	`next_attempt_at` integer,
	`completed_at` integer,
	`locked_by` text,
	`locked_until` integer,
	CONSTRAINT "requests_state_check" CHECK("charging_session_requests"."callback_state" in ('pending', 'delivered', 'failed')),
	CONSTRAINT "requests_pending_has_next_check" CHECK(("charging_session_requests"."callback_state" = 'pending') = ("charging_session_requests"."next_attempt_at" is not null))
);
--> statement-breakpoint
CREATE INDEX `requests_due_idx` ON `charging_session_requests` (`callback_state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `requests_state_created_idx` ON `charging_session_requests` (`callback_state`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `requests_created_idx` ON `charging_session_requests` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
