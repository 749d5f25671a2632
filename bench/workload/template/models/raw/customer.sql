CREATE OR REPLACE TABLE raw.customer AS
SELECT *
FROM landing.customer;
