-- description: marts.area_summary under disclosure control: referrals and the referral rates come from release.indicator_values (ref_rate_per_1000, ref_2ww_rate_per_1000), NULL with a <column>_suppressed flag and suppression_reason where withheld; every other column is public and passes through.
-- incremental: period
-- unique: area_level, area_code, period
-- not_null: area_level, area_code, period, referrals_suppressed, referral_rate_per_1000_suppressed, twoww_rate_per_1000_suppressed
-- accepted_values: suppression_reason in ('primary', 'secondary')
WITH ref AS (
    SELECT period, area_level, area_code, numerator, value, value_suppressed, suppression_reason
    FROM disclosure.indicator_values
    WHERE indicator_id = 'ref_rate_per_1000'
),
ww AS (
    SELECT period, area_level, area_code, value, value_suppressed, suppression_reason
    FROM disclosure.indicator_values
    WHERE indicator_id = 'ref_2ww_rate_per_1000'
)
SELECT s.* REPLACE (
        CAST(ref.numerator AS BIGINT) AS referrals,
        ref.value AS referral_rate_per_1000,
        ww.value AS twoww_rate_per_1000),
    coalesce(ref.value_suppressed, false) AS referrals_suppressed,
    coalesce(ref.value_suppressed, false) AS referral_rate_per_1000_suppressed,
    coalesce(ww.value_suppressed, false) AS twoww_rate_per_1000_suppressed,
    coalesce(ref.suppression_reason, ww.suppression_reason) AS suppression_reason
FROM marts.area_summary AS s
LEFT JOIN ref ON ref.period = s.period AND ref.area_level = s.area_level AND ref.area_code = s.area_code
LEFT JOIN ww ON ww.period = s.period AND ww.area_level = s.area_level AND ww.area_code = s.area_code
