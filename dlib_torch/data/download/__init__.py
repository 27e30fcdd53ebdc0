"""dtl_download: fetches the real data sets into the reference's layout under the data root, verified."""
