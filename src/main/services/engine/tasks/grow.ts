export const GrowTrainer = {
  create: async (..._a: unknown[]): Promise<never> => {
    throw new Error('todo');
  },
};
