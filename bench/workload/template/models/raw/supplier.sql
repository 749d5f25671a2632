CREATE OR REPLACE TABLE raw.supplier AS
SELECT *
FROM landing.supplier;
