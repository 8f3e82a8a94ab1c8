-- materialized: view
-- description: Staff in post per 10,000 weighted patients (GPs, nurses, direct patient care, admin) by area (practices included) and month, with England's figures and patients per GP FTE.

-- From release.area_summary; FTE = full-time equivalent (37.5 hours a week).
--   patients_per_gp_fte          registered patients per full-time-equivalent GP
--   clinical_fte_per_10k         GP + nurse + direct patient care
--   england_*                    the same month's England figure
SELECT
    s.period,
    s.area_level,
    s.area_code,
    s.area_name,
    s.practices,
    s.list_size,
    s.gp_fte_per_10k,
    s.nurse_fte_per_10k,
    s.dpc_fte_per_10k,
    s.admin_fte_per_10k,
    s.gp_fte_per_10k + s.nurse_fte_per_10k + s.dpc_fte_per_10k AS clinical_fte_per_10k,
    10000 / nullif(s.gp_fte_per_10k, 0) AS patients_per_gp_fte,
    e.gp_fte_per_10k AS england_gp_fte_per_10k,
    e.nurse_fte_per_10k AS england_nurse_fte_per_10k,
    e.dpc_fte_per_10k AS england_dpc_fte_per_10k,
    e.admin_fte_per_10k AS england_admin_fte_per_10k,
    s.gp_fte_per_10k - e.gp_fte_per_10k AS gp_fte_per_10k_vs_england,
    s.imd_score
FROM release.area_summary AS s
LEFT JOIN release.area_summary AS e
    ON e.area_level = 'england' AND e.period = s.period
