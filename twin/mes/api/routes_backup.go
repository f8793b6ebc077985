package api

import (
	"context"
	"io"
	"net/http"

	"twin/twin/backup"
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Backup writes a backup of the running twin's data directory to w (an
// increment of since; nil: a full backup) and returns its manifest: what
// twin serve gives the API (SetBackup) for POST /backup.
type Backup func(ctx context.Context, w io.Writer, since *backup.Manifest) (*backup.Manifest, error)

// SetBackup gives the API the twin's backup; without it POST /backup
// answers 503.
func (a *API) SetBackup(b Backup) { a.backup = b }

// BackupRequest asks for a backup: full, or an increment of the backup
// whose manifest is Since (the manifest.json of the previous file).
type BackupRequest struct {
	Since *backup.Manifest `json:"since,omitempty" doc:"the previous backup's manifest: an increment since it; absent: a full backup"`
}

// errNoBackup is a twin that does not back up over the API.
type errNoBackup struct{}

func (errNoBackup) Error() string {
	return "this twin makes no backups over the API (only twin serve does): back up a stopped twin's directory with twin backup --data DIR"
}
func (errNoBackup) Code() string { return "no_backup" }

func backupRoutes() []Route {
	return []Route{
		route("POST", "/backup", "backup", "a consistent backup of the history, the records, the audit anchors and the card key while the twin runs: a tar file, manifest.json first (twin/backup/FORMAT.md)", roles(mes.RoleAdmin),
			nil, BackupRequest{}, openapi.Raw{ContentType: "application/x-tar"}, func(c *call) (any, error) {
				r, err := optBody[BackupRequest](c)
				if err != nil {
					return nil, err
				}
				if c.backup == nil {
					return nil, errNoBackup{}
				}
				c.w.Header().Set("Content-Type", "application/x-tar")
				kind := "full"
				if r.Since != nil {
					kind = "incr"
				}
				c.w.Header().Set("Content-Disposition", `attachment; filename="twin-`+kind+`.tar"`)
				// backup.Write writes nothing before both databases are
				// copied: an error until then is still an error answer
				fw := &firstWrite{w: c.w}
				if _, err = c.backup(c.r.Context(), fw, r.Since); err != nil && !fw.written {
					c.w.Header().Del("Content-Disposition")
					c.w.Header().Set("Content-Type", "application/json")
					return nil, err
				}
				// an error after the file began cuts it short: the
				// client's check of its manifest and checksums finds it
				return nil, nil
			}),
	}
}

// firstWrite is the response, which counts whether anything was written.
type firstWrite struct {
	w       http.ResponseWriter
	written bool
}

func (f *firstWrite) Write(b []byte) (int, error) {
	f.written = true
	return f.w.Write(b)
}
