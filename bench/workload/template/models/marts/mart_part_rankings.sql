CREATE OR REPLACE TABLE marts.mart_part_rankings AS
WITH part_revenue AS (
    SELECT
        part_key,
        sum(quantity)    AS units,
        sum(net_amount)  AS revenue
    FROM intermediate.int_order_lines
    GROUP BY part_key
)
SELECT
    p.part_key,
    p.part_name,
    p.brand,
    p.material,
    pr.units,
    pr.revenue,
    rank() OVER (PARTITION BY p.brand ORDER BY pr.revenue DESC)  AS brand_rank,
    pr.revenue / sum(pr.revenue) OVER (PARTITION BY p.brand)    AS brand_revenue_share
FROM part_revenue AS pr
JOIN staging.stg_parts AS p
    ON p.part_key = pr.part_key;
