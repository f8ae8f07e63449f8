{#
  Consolidated debtor id (SPEC section 4): spaces, dots and dashes removed,
  upper-cased; a SIRET (14 digits) or a French VAT number (FR + 2 characters
  + 9 digits) reduced to its SIREN; any other form kept; empty gives null.
#}
{% macro normalise_registration_id(column) -%}
    case
        when nullif(upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g')), '') is null then null
        when regexp_full_match(upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g')), '[0-9]{14}')
            then left(upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g')), 9)
        when regexp_full_match(upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g')), 'FR[0-9A-Z]{2}[0-9]{9}')
            then right(upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g')), 9)
        else upper(regexp_replace({{ column }}, '[\s.\-]', '', 'g'))
    end
{%- endmacro %}
