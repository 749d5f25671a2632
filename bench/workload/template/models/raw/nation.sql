CREATE OR REPLACE TABLE raw.nation AS
SELECT *
FROM landing.nation;
