// Package sqlmodels embeds the SQL models in sql/ so the binary carries
// them; a workspace sql/ folder is laid over them.
package sqlmodels

import (
	"embed"
	"io/fs"
)

//go:embed */*.sql
var files embed.FS

// FS returns the embedded models, rooted at sql/.
func FS() fs.FS { return files }
