package ingest

import "path/filepath"

// datasetKey is the Hive partition column naming a dataset within a source
// that holds several (Fingertips: one per indicator export).
const datasetKey = "dataset"

// DatasetParser is a Parser that says which dataset of its source a file
// is, decided once every record is read.
type DatasetParser interface {
	Dataset() string
}

// PartitionPath is where a source's data for one dataset and period lives:
// lake/<table>/period=<P>, or lake/<table>/dataset=<D>/period=<P>.
func PartitionPath(lake, table, dataset, period string) string {
	if dataset == "" {
		return partitionDir(lake, table, period)
	}
	return partitionDir(filepath.Join(lake, table), datasetKey+"="+dataset, period)
}

// partName names a partition in messages: source/period or source/dataset/period.
func partName(source, dataset, period string) string {
	if dataset == "" {
		return source + "/" + period
	}
	return source + "/" + dataset + "/" + period
}
