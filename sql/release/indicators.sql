-- description: The indicator catalogue (core.indicators) as readers see it; public = false marks the indicators under disclosure control.
-- unique: indicator_id
SELECT * FROM core.indicators
