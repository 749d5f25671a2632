CREATE OR REPLACE TABLE intermediate.int_customers AS
SELECT
    c.customer_key,
    c.customer_name,
    c.market_segment,
    c.account_balance,
    c.is_in_debt,
    n.n_name  AS nation_name,
    r.r_name  AS region_name
FROM staging.stg_customers AS c
JOIN raw.nation AS n
    ON n.n_nationkey = c.nation_key
JOIN raw.region AS r
    ON r.r_regionkey = n.n_regionkey;
