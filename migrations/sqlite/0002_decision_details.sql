ALTER TABLE `charging_session_requests` ADD `authorization_reference` text;--> statement-breakpoint
UPDATE `charging_session_requests` SET `decision_reason` = CASE
	WHEN `decision_status` = 'unknown' AND `decision_reason` LIKE 'no valid answer%' THEN 'timeout'
	WHEN `decision_status` = 'unknown' THEN 'bad_answer'
	WHEN `decision_reason` = 'driver unknown' THEN 'unknown_driver'
	WHEN `decision_reason` = 'driver blocked' THEN 'blocked'
	WHEN `decision_reason` = 'driver expired' THEN 'expired'
	WHEN `decision_reason` IN ('all stations', 'station granted') THEN 'granted'
	WHEN `decision_reason` = 'station not granted' THEN 'station_not_granted'
	WHEN `decision_reason` = 'authorizer answered' THEN 'authorizer'
	ELSE `decision_reason`
END
WHERE `decision_status` IS NOT NULL;
