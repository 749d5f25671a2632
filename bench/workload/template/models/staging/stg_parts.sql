CREATE OR REPLACE TABLE staging.stg_parts AS
SELECT
    p_partkey                           AS part_key,
    p_name                              AS part_name,
    p_mfgr                              AS manufacturer,
    p_brand                             AS brand,
    p_type                              AS part_type,
    split_part(p_type, ' ', 1)          AS finish_grade,
    split_part(p_type, ' ', 3)          AS material,
    p_size                              AS size,
    CASE
        WHEN p_size <= 10 THEN 'small'
        WHEN p_size <= 30 THEN 'medium'
        ELSE 'large'
    END                                 AS size_band,
    p_container                         AS container,
    p_retailprice                       AS retail_price
FROM raw.part;
