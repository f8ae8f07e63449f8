{#
  Consolidated debtor id (SPEC section 4): spaces, dots and dashes removed
  (every Unicode space separator too, \p{Z}: French spreadsheets group digits
  with U+00A0 or U+202F; receivables.contract.REGISTRATION_ID_SEPARATORS is the
  same class for the landing's warning, and a test holds the two equal),
  upper-cased; a SIRET (14 digits) or a French VAT number (FR + 2 characters
  + 9 digits) reduced to its SIREN; any other form kept; empty gives null.
#}
{% macro normalise_registration_id(column) -%}
    case
        when nullif(upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g')), '') is null then null
        when regexp_full_match(upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g')), '[0-9]{14}')
            then left(upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g')), 9)
        when regexp_full_match(upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g')), 'FR[0-9A-Z]{2}[0-9]{9}')
            then right(upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g')), 9)
        else upper(regexp_replace({{ column }}, '[\s\p{Z}.\-]', '', 'g'))
    end
{%- endmacro %}
