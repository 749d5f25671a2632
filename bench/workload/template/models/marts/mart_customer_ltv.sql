CREATE OR REPLACE TABLE marts.mart_customer_ltv AS
WITH customer_orders AS (
    SELECT
        customer_key,
        order_key,
        order_date,
        sum(net_amount) AS order_value
    FROM intermediate.int_order_lines
    GROUP BY customer_key, order_key, order_date
)
SELECT
    c.customer_key,
    c.customer_name,
    c.market_segment,
    c.nation_name,
    c.region_name,
    count(*)                 AS orders,
    sum(co.order_value)      AS lifetime_value,
    avg(co.order_value)      AS avg_order_value,
    min(co.order_date)       AS first_order_date,
    max(co.order_date)       AS last_order_date
FROM customer_orders AS co
JOIN intermediate.int_customers AS c
    ON c.customer_key = co.customer_key
GROUP BY
    c.customer_key, c.customer_name, c.market_segment, c.nation_name, c.region_name;
