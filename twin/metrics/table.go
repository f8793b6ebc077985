package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The table of the twin's metrics: METRICS.md is generated from it
// (go test ./twin/metrics -run TestMetricsDoc -update), and the tests
// check that every metric /metrics shows is in it.

// kind is a metric's Prometheus type.
type kind uint8

const (
	counter kind = iota
	gauge
	histogram
)

func (k kind) String() string { return [...]string{"counter", "gauge", "histogram"}[k] }

// def is one metric: its type, labels, meaning and (for a histogram) its
// buckets in seconds.
type def struct {
	Kind    kind
	Labels  []string
	Help    string
	Buckets []float64
	From    string // the figure it reads, for METRICS.md
}

const (
	mIngestEvents      = "twin_ingest_events_total"
	mIngestFaults      = "twin_ingest_faults_total"
	mIngestStored      = "twin_ingest_stored_events_total"
	mIngestFailed      = "twin_ingest_store_errors_total"
	mIngestBatches     = "twin_ingest_batches_total"
	mIngestQueueFull   = "twin_ingest_queue_full_total"
	mIngestSubDropped  = "twin_ingest_subscriber_dropped_total"
	mIngestHeld        = "twin_ingest_held_disk_full_total"
	mQuarantined       = "twin_ingest_quarantined_total"
	mFold              = "twin_ingest_fold_seconds"
	mStoreSeq          = "twin_store_events_total"
	mStoreLSM          = "twin_store_lsm_bytes"
	mStoreVLog         = "twin_store_vlog_bytes"
	mStorePasses       = "twin_store_snapshot_passes_total"
	mStoreDropped      = "twin_store_retention_dropped_total"
	mStoreLate         = "twin_store_late_events_total"
	mStoreUnreadable   = "twin_store_unreadable_total"
	mStoreRepeats      = "twin_store_repeats_total"
	mDiskFull          = "twin_disk_full"
	mDiskFree          = "twin_disk_free_bytes"
	mDiskReserve       = "twin_disk_reserve_bytes"
	mDiskRefused       = "twin_disk_refused_writes_total"
	mBackupLast        = "twin_backup_last_success_timestamp_seconds"
	mBackupAge         = "twin_backup_age_seconds"
	mBackupOverdue     = "twin_backup_overdue"
	mBackupBytes       = "twin_backup_last_bytes"
	mBackupRuns        = "twin_backup_runs_total"
	mBackupFailures    = "twin_backup_failures_total"
	mAppend            = "twin_store_append_seconds"
	mCommit            = "twin_store_commit_seconds"
	mConnUp            = "twin_connector_up"
	mConnSubscribed    = "twin_connector_subscribed"
	mConnConnects      = "twin_connector_connects_total"
	mConnMessages      = "twin_connector_messages_total"
	mConnEvents        = "twin_connector_events_total"
	mConnMalformed     = "twin_connector_malformed_total"
	mConnUnassigned    = "twin_connector_unassigned_total"
	mConnRebirths      = "twin_connector_rebirth_requests_total"
	mConnGapDropped    = "twin_connector_gap_dropped_total"
	mConnStaleDeaths   = "twin_connector_stale_deaths_total"
	mFeedClients       = "twin_feed_clients"
	mFeedSent          = "twin_feed_sent_total"
	mFeedDropped       = "twin_feed_dropped_clients_total"
	mFeedFrames        = "twin_feed_frames_total"
	mFeedMade          = "twin_feed_encoded_total"
	mScans             = "twin_records_scans_total"
	mRequests          = "twin_api_requests_total"
	mDuration          = "twin_api_request_duration_seconds"
	mSignInFailures    = "twin_signin_failures_total"
	mThrottleThrottled = "twin_signin_throttled_total"
	mThrottleLockouts  = "twin_signin_lockouts_total"
	mThrottleLocked    = "twin_signin_locked"
	mReady             = "twin_ready"
)

var (
	conn = []string{"kind", "connector"}
	// foldBuckets: a batch folds in microseconds (1 µs … 0.26 s).
	foldBuckets = prometheus.ExponentialBuckets(1e-6, 4, 10)
	// diskBuckets: an append waits for the disk's sync (100 µs … 1.6 s).
	diskBuckets = prometheus.ExponentialBuckets(1e-4, 2, 15)
)

// table is every metric of the twin by name.
var table = map[string]def{
	mIngestEvents:     {counter, nil, "Events ingested: folded into the live state and queued for the history.", nil, "ingest.Stats.Events"},
	mIngestFaults:     {counter, nil, "Fault events ingested: malformed input the connectors reported, and quarantined readings.", nil, "ingest.Stats.Faults"},
	mIngestStored:     {counter, nil, "Events the history store made durable (each acknowledged to its source after).", nil, "ingest.Stats.Stored"},
	mIngestFailed:     {counter, nil, "Events whose append to the history store failed.", nil, "ingest.Stats.Failed"},
	mIngestBatches:    {counter, nil, "Appends to the history store (batches merged by group commit).", nil, "ingest.Stats.Batches"},
	mIngestQueueFull:  {counter, nil, "Batches that waited for room in the store's queue: the store was behind, the connectors slowed to its pace.", nil, "ingest.Stats.QueueFull"},
	mIngestSubDropped: {counter, nil, "Events a subscriber (the records' live link) did not get because its queue was full.", nil, "ingest.Stats.SubscriberDropped"},
	mIngestHeld:       {counter, nil, "Times the store's writer held a batch because the data directory's disk was full (unacknowledged; written once it had room).", nil, "ingest.Stats.Held"},
	mQuarantined: {counter, []string{"reason"}, "Readings quarantined for a time out of bounds, by reason: ahead (more than --max-skew ahead of the receive clock), old (more than --max-age behind it: late).",
		nil, "ingest.Stats.Quarantined"},
	mFold: {histogram, nil, "Seconds a batch of events takes to fold: its time check, the live state's apply, the subscribers' queues.", foldBuckets, "ingest.Options.FoldLatency"},

	mStoreSeq:        {counter, nil, "Events ever appended to the history (its sequence number: it survives restarts and retention).", nil, "store.Stats.Seq"},
	mStoreLSM:        {gauge, nil, "Bytes of the history's LSM tree on disk.", nil, "store.Stats.LSMBytes"},
	mStoreVLog:       {gauge, nil, "Bytes of the history's value log on disk.", nil, "store.Stats.VLogBytes"},
	mStorePasses:     {counter, nil, "Background snapshot passes done (each applies the retention).", nil, "store.Stats.Passes"},
	mStoreDropped:    {counter, nil, "Events deleted by retention.", nil, "store.Stats.Dropped"},
	mStoreLate:       {counter, nil, "Events appended older than the newest before them (out of order; they drop the snapshots after their time).", nil, "store.Stats.Late"},
	mStoreUnreadable: {counter, nil, "Times a read passed over an event record of the history that does not decode (damage on disk; each read of a damaged record counts).", nil, "store.Stats.Unreadable"},
	mStoreRepeats:    {counter, nil, "Events not stored again because the history held the same observation (a broker's redelivery after a crash).", nil, "store.Stats.Repeats"},
	mDiskFull:        {gauge, nil, "1 while the data directory's disk is below its reserve: the twin writes nothing (readings wait at their broker, scans get 503), else 0.", nil, "disk.Stats.Full"},
	mDiskFree:        {gauge, nil, "Bytes free (to the twin) on the data directory's disk.", nil, "disk.Stats.FreeBytes"},
	mDiskReserve:     {gauge, nil, "Bytes the twin keeps free on the data directory's disk (--disk-reserve).", nil, "disk.Stats.Reserve"},
	mDiskRefused:     {counter, nil, "Writes refused because the disk was below its reserve.", nil, "disk.Stats.Refused"},
	mBackupLast:      {gauge, nil, "Unix time of the last scheduled backup that succeeded (0: none yet); only with --backup-dir.", nil, "backup.ScheduleStats.LastSuccess"},
	mBackupAge:       {gauge, nil, "Seconds since the last scheduled backup that succeeded (0: none yet).", nil, "backup.ScheduleStats.Age"},
	mBackupOverdue:   {gauge, nil, "1 while no scheduled backup has succeeded for twice --backup-every (an alarm on the views too), else 0.", nil, "backup.ScheduleStats.Overdue"},
	mBackupBytes:     {gauge, nil, "Bytes of the last scheduled backup file.", nil, "backup.ScheduleStats.LastBytes"},
	mBackupRuns:      {counter, nil, "Scheduled backups run.", nil, "backup.ScheduleStats.Runs"},
	mBackupFailures:  {counter, nil, "Scheduled backups that failed.", nil, "backup.ScheduleStats.Failures"},
	mAppend:          {histogram, nil, "Seconds an append to the history takes, from its lock to the disk's sync.", diskBuckets, "store.Options.AppendLatency"},
	mCommit:          {histogram, nil, "Seconds an append's commit takes: the batch's flush and the sync.", diskBuckets, "store.Options.CommitLatency"},

	mConnUp:          {gauge, conn, "1 while the connector's connection is up (OPC UA: while its session is subscribed), else 0.", nil, "mqtt.Client.Connected, opcua.Stats.Subscribed"},
	mConnSubscribed:  {gauge, conn, "1 while the source has confirmed the connector's subscriptions (MQTT SUBACK, OPC UA monitored items), else 0.", nil, "Stats.Subscribed"},
	mConnConnects:    {counter, conn, "Connections made (the first and each reconnection).", nil, "Stats.Connects"},
	mConnMessages:    {counter, conn, "Messages (MQTT) or value notifications (OPC UA) received.", nil, "mqtt.Stats.Messages, opcua.Stats.Values + Malformed"},
	mConnEvents:      {counter, conn, "Events the connector handed to ingest (accepted readings).", nil, "mqtt.Stats.Events, opcua.Stats.Values"},
	mConnMalformed:   {counter, []string{"kind", "connector", "reason"}, "Messages that could not be read, by reason (OPC UA: reason \"value\").", nil, "mqtt.Stats.Reasons, opcua.Stats.Malformed"},
	mConnUnassigned:  {counter, conn, "MQTT messages on topics the tag map does not name.", nil, "mqtt.Stats.Unassigned"},
	mConnRebirths:    {counter, conn, "Sparkplug rebirth requests sent.", nil, "mqtt.Stats.Rebirths"},
	mConnGapDropped:  {counter, conn, "Sparkplug messages not folded because their node's session was lost to a sequence gap (until its rebirth).", nil, "mqtt.Stats.GapDropped"},
	mConnStaleDeaths: {counter, conn, "Sparkplug NDEATHs ignored: their bdSeq is not the node's current birth's.", nil, "mqtt.Stats.StaleDeaths"},

	mFeedClients: {gauge, nil, "WebSocket feed clients connected.", nil, "feed.Stats.Clients"},
	mFeedSent:    {counter, nil, "Messages sent to feed clients.", nil, "feed.Stats.Sent"},
	mFeedDropped: {counter, nil, "Feed clients disconnected for being too slow.", nil, "feed.Stats.Dropped"},
	mFeedFrames:  {counter, nil, "Scenes of the source the feed sent on.", nil, "feed.Stats.Frames"},
	mFeedMade:    {counter, nil, "Feed messages encoded (shared by the clients that follow the source).", nil, "feed.Stats.Made"},

	mScans: {counter, []string{"outcome"}, "Card scans the records carried out, by outcome: started, confirmed (scan confirmations), duplicate (changed nothing), refused (an error).", nil, "mes.DB.Stats"},

	mRequests:          {counter, []string{"route", "code"}, "Records API requests by route pattern (\"GET /api/v1/orders/{id}\", never the raw path) and status code.", nil, "Instrument"},
	mDuration:          {histogram, []string{"route"}, "Seconds the records API takes to answer, by route pattern.", prometheus.DefBuckets, "Instrument"},
	mSignInFailures:    {counter, []string{"reason"}, "Sign-ins refused on POST /api/v1/login and POST /api/v1/session: bad_credentials (401), throttled (429).", nil, "Instrument"},
	mThrottleThrottled: {counter, nil, "Sign-ins the throttler refused because of earlier failures.", nil, "Sources.Throttle"},
	mThrottleLockouts:  {counter, nil, "Lockouts the throttler began (an account or a source).", nil, "Sources.Throttle"},
	mThrottleLocked:    {gauge, nil, "Accounts and sources the throttler holds locked now.", nil, "Sources.Throttle"},

	mReady: {gauge, []string{"check"}, "1 while a condition of readiness holds (a connector connected and subscribed, the history open, the records open), else 0: what /readyz answers.", nil, "Sources.Checks"},
}
