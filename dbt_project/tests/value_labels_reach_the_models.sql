{#
  The labels of the marts' YAML reach the text the models write through the
  macro value_label (the reports and the dashboards read the same YAML in
  Python): a row is a label that did not.
#}
select 'receivership' as code
where {{ value_label('mart_debtor_exposure', 'insolvency_status', "'receivership'") }} <> 'Redressement judiciaire'
union all
select 'unknown' as code
where {{ value_label('mart_debtor_exposure', 'insolvency_status', "'unknown'") }} <> 'unknown'
