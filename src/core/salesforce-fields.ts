/**
 * What standard Salesforce fields mean, by API name, whatever object they are on (FieldSchema.meaning): shared
 * by the CSV presets (Data Export files) and the Salesforce connector, so `ferry map` pairs `StageName` with a
 * target's deal stage and `Subject` with a task title from either source.
 */
export const SALESFORCE_FIELD_MEANINGS: Readonly<Record<string, string>> = {
  Email: 'email',
  Phone: 'phone',
  MobilePhone: 'mobile',
  FirstName: 'firstname',
  LastName: 'lastname',
  Title: 'jobtitle',
  Website: 'website',
  Industry: 'industry',
  AnnualRevenue: 'revenue',
  NumberOfEmployees: 'employees',
  Amount: 'amount',
  CloseDate: 'closedate',
  StageName: 'stage',
  CurrencyIsoCode: 'currency',
  Subject: 'title',
  Description: 'body',
  Body: 'body',
  ActivityDate: 'duedate',
  Status: 'status',
  Priority: 'priority',
  OwnerId: 'owner',
};
