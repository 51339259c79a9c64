"""Tables: specs and paper numbers (:mod:`.specs`), aggregation of per-item evaluations
(:mod:`.aggregate`), building and rendering (:mod:`.build`, :mod:`.render`)."""
